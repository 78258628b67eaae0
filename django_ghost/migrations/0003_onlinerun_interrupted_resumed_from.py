"""OnlineRun: the "interrupted" status and the checkpoint a resumed run started from."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("django_ghost", "0002_onlinerun_waiting_stall_checksum")]

    operations = [
        migrations.AlterField(
            model_name="onlinerun",
            name="status",
            field=models.CharField(
                choices=[
                    ("running", "running"),
                    ("waiting", "waiting for cut-over approval"),
                    ("done", "done"),
                    ("failed", "failed"),
                    ("aborted", "aborted"),
                    ("interrupted", "interrupted"),
                ],
                max_length=40,
            ),
        ),
        migrations.AddField(
            model_name="onlinerun",
            name="resumed_from",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
    ]
