"""Import of past findings from the spreadsheets offices keep (整改台账): read, check every row, commit all or none."""
