"""The agent's time: the schedule, viewing availability and the free viewing slots."""
