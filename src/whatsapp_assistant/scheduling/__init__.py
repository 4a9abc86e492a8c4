"""The agent's time: schedule, viewing availability, free slots, viewings."""
