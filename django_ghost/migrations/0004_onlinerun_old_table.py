"""OnlineRun: the old table an online run kept for a revert, or a revert put back."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("django_ghost", "0003_onlinerun_interrupted_resumed_from")]

    operations = [
        migrations.AddField(
            model_name="onlinerun",
            name="old_table",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
    ]
