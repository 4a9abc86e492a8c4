"""Messages due later: follow-ups, viewing reminders, after-viewing notes and send-later, each a
row with a due time and a job (docs/decisions.md, 25)."""
