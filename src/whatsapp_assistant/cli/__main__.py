"""`python -m whatsapp_assistant.cli` runs the same command as `whatsapp-assistant`."""

from whatsapp_assistant.cli import main

main()
