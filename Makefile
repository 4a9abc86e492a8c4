# Short names for everyday work; `make run` and `make test` are the two set-up commands.
.PHONY: run test worker lint typecheck migrate bench chat

run:
	./scripts/run

test:
	./scripts/test

worker:
	.venv/bin/whatsapp-assistant worker

chat:
	.venv/bin/whatsapp-assistant chat

lint:
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench

typecheck:
	.venv/bin/mypy
	.venv/bin/lint-imports

migrate:
	.venv/bin/whatsapp-assistant migrate

bench:
	@command -v wrk >/dev/null || apt-get install -y -q wrk  # the ingest benchmark drives wrk
	.venv/bin/python bench/webhook_to_send.py
	.venv/bin/python bench/toggle_latency.py
	.venv/bin/python bench/page_latency.py
	.venv/bin/python bench/reply_burst.py
	.venv/bin/python bench/search_latency.py
	.venv/bin/python bench/free_slots.py
	.venv/bin/python bench/webhook_ingest.py
	.venv/bin/python bench/takeover_under_load.py
	.venv/bin/python bench/scheduled_sweep.py
	.venv/bin/python bench/backfill.py
