"""OnlineRun: the "waiting for cut-over approval" status, cut-over stall and checksum."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("django_ghost", "0001_initial")]

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
                ],
                max_length=40,
            ),
        ),
        migrations.AddField(
            model_name="onlinerun",
            name="cut_over_stall_seconds",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="onlinerun",
            name="checksum_verified",
            field=models.BooleanField(blank=True, null=True),
        ),
    ]
