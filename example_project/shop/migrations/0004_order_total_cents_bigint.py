# Pending online migration 3 of 3 on shop_order: widen INT to BIGINT.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0003_order_status_created_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='order',
            name='total_cents',
            field=models.BigIntegerField(default=0),
        ),
    ]
