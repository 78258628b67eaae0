from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("testapp", "0002_add_nullable")]
    operations = [
        migrations.AddIndex("item", models.Index(fields=["qty"], name="item_qty_idx")),
    ]
