"""A text-search configuration for topic statistics: `russian` with words only.

Same parser, dictionaries and stop words as `russian`, minus the token
types that are not words for the "frequent words" figure: numbers, URLs,
e-mails, file names, and the parts of hyphenated words (so "Кул-Шариф"
counts once, as itself, not also as "кул" and "шариф").
"""

from django.db import migrations

CONFIG = "tatartours_words"
NOT_WORDS = (
    "email, file, float, host, hword_asciipart, hword_numpart, hword_part, int, "
    "numhword, numword, sfloat, uint, url, url_path, version"
)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql=[
                f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = pg_catalog.russian)",
                f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} DROP MAPPING FOR {NOT_WORDS}",
            ],
            reverse_sql=[f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}"],
        ),
    ]
