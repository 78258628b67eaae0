from django.db import migrations, models

from django_ghost.operations import GhostBatch


class Migration(migrations.Migration):
    dependencies = [("testapp", "0002_three_alters")]
    operations = [
        GhostBatch("migration"),
        migrations.AddField("item", "flag", models.BooleanField(default=False)),
        migrations.AlterField("item", "name", models.CharField(max_length=100)),
        migrations.AddIndex("item", models.Index(fields=["name", "code"], name="item_name_code")),
    ]
