from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("testapp", "0001_initial")]
    operations = [
        # A default: Django adds the column with it, then drops it (a trailing ALTER run
        # on its own connection after the cut-over).
        migrations.AddField("row", "extra", models.IntegerField(null=True, default=7)),
    ]
