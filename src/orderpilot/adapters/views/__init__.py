"""The read side: every query the API and the console show, in one place."""
