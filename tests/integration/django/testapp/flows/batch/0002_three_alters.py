from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("testapp", "0001_initial")]
    operations = [
        migrations.AddField("item", "code", models.CharField(max_length=10, default="x")),
        migrations.AlterField("item", "qty", models.BigIntegerField(default=0)),
        migrations.AddIndex("item", models.Index(fields=["qty"], name="item_qty_idx")),
    ]
