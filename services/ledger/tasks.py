"""Celery entry point of the ledger stage (queue `ledger`)."""

from services.ledger.service import append_submission
from shared.celery_app import Queue
from shared.stage import stage_task

# An append waits for the advisory lock behind other writers; 60 s means the log is stuck.
ledger_task = stage_task(Queue.LEDGER, soft_time_limit=60, time_limit=90)(append_submission)
