"""The agent's time: schedule, availability, viewings."""
