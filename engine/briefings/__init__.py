"""Numbered briefings (巡查简报): content built from the data, drafts, publication that freezes them."""
