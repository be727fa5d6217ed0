"""Analyst cases: the alert queue, the moves a case may make, verdicts and reported labels.

The API and the console translate requests into calls of :mod:`txguard.cases.service`;
the rules of the workflow live in :mod:`txguard.cases.workflow`, the SQL in the store.
"""
