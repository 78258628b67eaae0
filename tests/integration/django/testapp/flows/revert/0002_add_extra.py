from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("testapp", "0001_initial")]
    operations = [
        migrations.AddField("row", "extra", models.IntegerField(null=True)),
    ]
