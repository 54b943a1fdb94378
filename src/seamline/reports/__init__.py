"""One reports area: the CX overview dashboard, the catalog of every report, saved and scheduled reports."""
