"""The consolidated draft and the tracking workbook: the draft as data (model.py, pure), its
text merging (text.py), the .docx/.xlsx writers (writers.py), draft versions on disk
(versions.py) and the clerk's tracking workbook (tracking.py)."""
