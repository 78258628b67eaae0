from django.db import migrations, models
from django.db.models import Q  # noqa: F401


def forwards(apps, schema_editor):
    Item = apps.get_model("testapp", "Item")
    Item.objects.using(schema_editor.connection.alias).filter(qty__gte=0).update(
        qty=models.F("qty") + 1
    )


class Migration(migrations.Migration):
    dependencies = [("testapp", "0012_unique_together")]
    operations = [
        migrations.RemoveField("item", "note"),
    ]
