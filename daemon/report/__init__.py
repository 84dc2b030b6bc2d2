"""The consolidated draft and the tracking workbook: the draft as data (model.py, pure), where a
unit's text goes (routing.py) and how it is merged (text.py), the figures and their totals
(figures.py), the .docx/.xlsx writers (writers.py), draft versions on disk (versions.py) and the
clerk's tracking workbook (tracking.py)."""
