"""Fail CI when the PostgreSQL variants of the storage tests were skipped or absent."""

import re
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
ran = skipped = 0
for case in root.iter("testcase"):
    if not re.search(r"[\[-]postgresql[\]-]", case.get("name", "")):
        continue
    if case.find("skipped") is not None:
        skipped += 1
        print(f"skipped on PostgreSQL: {case.get('classname')}::{case.get('name')}")
    else:
        ran += 1
print(f"PostgreSQL-backed tests: {ran} ran, {skipped} skipped")
if skipped or not ran:
    sys.exit(1)
