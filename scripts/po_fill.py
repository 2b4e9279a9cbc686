"""Fill a gettext catalogue from a JSON file of translations, and list what is still missing.

    python scripts/po_fill.py locale/nb/LC_MESSAGES/django.po --missing        # print a JSON skeleton
    python scripts/po_fill.py locale/nb/LC_MESSAGES/django.po translations.json

The JSON maps msgid to msgstr (or, for plural entries, msgid to a list of msgstr forms). Filling
an entry clears its fuzzy flag. Used by translators after `make messages`; the test suite checks
that no catalogue has an untranslated or fuzzy message.
"""

from __future__ import annotations

import json
import sys

import polib


def missing(po: polib.POFile) -> dict[str, object]:
    """Untranslated and fuzzy entries, with the fuzzy guess (if any) as the starting point."""
    out: dict[str, object] = {}
    for entry in po:
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            if "fuzzy" in entry.flags or not all(entry.msgstr_plural.values()):
                out[entry.msgid] = [entry.msgstr_plural.get(i, "") for i in sorted(entry.msgstr_plural)]
        elif "fuzzy" in entry.flags or not entry.msgstr:
            out[entry.msgid] = entry.msgstr
    return out


def fill(po: polib.POFile, translations: dict[str, object]) -> int:
    done = 0
    for entry in po:
        if entry.obsolete or entry.msgid not in translations:
            continue
        value = translations[entry.msgid]
        if entry.msgid_plural:
            if not isinstance(value, list):
                raise SystemExit(f"{entry.msgid!r} is a plural entry: give a list of forms")
            entry.msgstr_plural = dict(enumerate(value))
        else:
            if not isinstance(value, str):
                raise SystemExit(f"{entry.msgid!r} is not a plural entry: give a string")
            entry.msgstr = value
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = None
        entry.previous_msgid_plural = None
        done += 1
    return done


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    po = polib.pofile(argv[0], wrapwidth=79)
    if argv[1] == "--missing":
        print(json.dumps(missing(po), ensure_ascii=False, indent=1))
        return 0
    with open(argv[1], encoding="utf-8") as fh:
        translations = json.load(fh)
    count = fill(po, translations)
    po.save()
    left = missing(po)
    print(f"filled {count}; still missing {len(left)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
