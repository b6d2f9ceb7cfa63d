"""The campaign's records as every part reads them: sealed runs, their grades and figures."""
