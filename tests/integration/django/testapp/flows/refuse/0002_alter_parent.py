from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("testapp", "0001_initial")]
    operations = [
        migrations.AddField("parent", "note", models.CharField(max_length=20, null=True)),
        migrations.AlterField("parent", "name", models.CharField(max_length=80)),
    ]
