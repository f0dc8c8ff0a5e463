#!/usr/bin/env python3
"""Reads an XLSX file with openpyxl (a real spreadsheet reader, not ours) and prints what
a user's spreadsheet program would see, as one JSON object on stdout:

    {
      "sheet_names": ["<sheet name>", ...],
      "sheets": {"<sheet name>": [[cell, cell, ...], ...], ...},
      "number_formats": {"<sheet name>": {"B7": "0.00", ...}, ...},
      "freeze_panes": {"<sheet name>": "A2" or null, ...}
    }

- "sheet_names" lists the sheets in the workbook's order (a reader's JSON object may
  not keep it). "sheets" maps each name to its rows 1..max_row, each padded to the
  sheet's max_column. A cell is what openpyxl reads with data_only=True: a string,
  an int (a number written without a fraction), a float, a bool, or null for a blank.
- "number_formats" lists only the cells whose number format is not "General"
  (e.g. "@" for text ids, "0.00" for percentages, "#,##0" for rupiah).
- "freeze_panes" is the top-left cell of the scrolling area, null when nothing is
  frozen.

Usage: read_xlsx.py FILE.xlsx   (run with the venv made by scripts/setup.sh:
target/py-xlsx/bin/python)
"""

import datetime
import json
import sys

import openpyxl


def cell_value(value):
    """A cell's value as JSON can carry it."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def read(path):
    workbook = openpyxl.load_workbook(path, data_only=True)
    sheets, number_formats, freeze_panes = {}, {}, {}
    for sheet in workbook.worksheets:
        rows, formats = [], {}
        for row in sheet.iter_rows(
            min_row=1, max_row=sheet.max_row, min_col=1, max_col=sheet.max_column
        ):
            rows.append([cell_value(cell.value) for cell in row])
            for cell in row:
                if cell.number_format != "General":
                    formats[cell.coordinate] = cell.number_format
        sheets[sheet.title] = rows
        number_formats[sheet.title] = formats
        freeze_panes[sheet.title] = sheet.freeze_panes
    return {
        "sheet_names": workbook.sheetnames,
        "sheets": sheets,
        "number_formats": number_formats,
        "freeze_panes": freeze_panes,
    }


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: read_xlsx.py FILE.xlsx")
    json.dump(read(sys.argv[1]), sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
