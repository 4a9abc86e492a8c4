"""A stored voice note transcribed onto its message: once, and only when it can be."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.builders import create_account, create_channel
from tests.fakes.audio import ogg_like, write_tone_wav
from tests.fakes.transcription_server import FakeTranscription
from tests.settings import tuned
from whatsapp_assistant.ai.errors import TranscriptionError
from whatsapp_assistant.ai.transcription import Transcriber
from whatsapp_assistant.app import running_services
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.conversations.states import Author, Direction
from whatsapp_assistant.conversations.transcribe import transcribe_message
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.infra.file_store import LocalFileStore

WORDS = "Olá, ainda tem o T2 na Graça? Posso visitar no sábado?"


@dataclass(frozen=True)
class Thread:
    account_id: uuid.UUID
    channel_id: uuid.UUID
    conversation_id: uuid.UUID


def configured(settings: Settings, fake: FakeTranscription, **changes: object) -> Settings:
    values: dict[str, object] = {
        "transcribe_base_url": fake.base_url,
        "transcribe_api_key": "transcribe-key",
        "transcribe_max_retries": 0,
        "transcribe_timeout_seconds": 5.0,
    }
    return tuned(settings, **(values | changes))


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
async def runtime(
    settings: Settings, db: Database, fake_transcription: FakeTranscription
) -> AsyncIterator[Runtime]:
    async with running_services(
        configured(settings, fake_transcription), run_worker_here=False
    ) as running:
        yield running


@pytest.fixture
async def thread(db: Database) -> Thread:
    async with db.session_scope() as session:
        account = await create_account(session)
        channel = await create_channel(session, account.id)
        contact = Contact(account_id=account.id, channel_id=channel.id, chat_id="351912345678@c.us")
        session.add(contact)
        await session.flush()
        conversation = Conversation(
            account_id=account.id, channel_id=channel.id, contact_id=contact.id, language="pt"
        )
        session.add(conversation)
        await session.flush()
    return Thread(account.id, channel.id, conversation.id)


async def add_message(
    db: Database,
    thread: Thread,
    *,
    kind: str = "audio",
    text: str = "",
    media: dict[str, Any] | None = None,
) -> uuid.UUID:
    async with db.session_scope() as session:
        message = Message(
            account_id=thread.account_id,
            conversation_id=thread.conversation_id,
            channel_id=thread.channel_id,
            direction=Direction.IN,
            author=Author.CUSTOMER,
            kind=kind,
            text=text,
            data={"media": media} if media is not None else {},
            provider_message_id=uuid.uuid4().hex,
        )
        session.add(message)
        await session.flush()
    return message.id


def write_file(path: Path, content: bytes) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return content


def stored(path: str, *, mime: str = "audio/wav", filename: str = "note.wav") -> dict[str, Any]:
    return {"status": "stored", "path": path, "mime": mime, "size": 0, "filename": filename}


async def read(db: Database, message_id: uuid.UUID) -> Message:
    async with db.session_scope() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        return message


class TestTranscribeMessage:
    async def test_a_voice_note_gets_its_words_as_transcript_and_text(
        self,
        runtime: Runtime,
        db: Database,
        thread: Thread,
        media_dir: Path,
        fake_transcription: FakeTranscription,
    ) -> None:
        audio = write_tone_wav(media_dir / "2026" / "12" / "note.wav")
        fake_transcription.register(audio, WORDS)
        message_id = await add_message(db, thread, media=stored("2026/12/note.wav"))

        result = await transcribe_message(runtime, message_id, files=LocalFileStore(media_dir))

        assert result == WORDS
        message = await read(db, message_id)
        assert message.text == WORDS
        assert message.data["transcript"] == WORDS
        assert message.data["media"] == stored("2026/12/note.wav")  # the rest kept
        [request] = fake_transcription.requests
        assert request.file is not None
        assert request.file.content == audio
        assert (request.file.filename, request.file.content_type) == ("note.wav", "audio/wav")
        assert request.fields["language"] == "pt"  # the conversation's, as a hint

    async def test_a_second_call_changes_nothing_and_asks_nobody(
        self,
        runtime: Runtime,
        db: Database,
        thread: Thread,
        media_dir: Path,
        fake_transcription: FakeTranscription,
    ) -> None:
        audio = write_tone_wav(media_dir / "note.wav")
        fake_transcription.register(audio, WORDS)
        message_id = await add_message(db, thread, media=stored("note.wav"))
        await transcribe_message(runtime, message_id, files=LocalFileStore(media_dir))
        fake_transcription.register(audio, "something else entirely")

        again = await transcribe_message(runtime, message_id, files=LocalFileStore(media_dir))

        assert again == WORDS
        assert (await read(db, message_id)).text == WORDS
        assert len(fake_transcription.requests) == 1

    async def test_two_runs_at_once_store_one_transcript(
        self,
        runtime: Runtime,
        db: Database,
        thread: Thread,
        media_dir: Path,
        fake_transcription: FakeTranscription,
    ) -> None:
        audio = write_tone_wav(media_dir / "note.wav")
        fake_transcription.register(audio, WORDS)
        message_id = await add_message(db, thread, media=stored("note.wav"))

        results = await asyncio.gather(
            transcribe_message(runtime, message_id, files=LocalFileStore(media_dir)),
            transcribe_message(runtime, message_id, files=LocalFileStore(media_dir)),
        )

        assert results == [WORDS, WORDS]
        message = await read(db, message_id)
        assert (message.text, message.data["transcript"]) == (WORDS, WORDS)

    async def test_a_caption_stays_the_text_and_the_transcript_goes_beside_it(
        self,
        runtime: Runtime,
        db: Database,
        thread: Thread,
        media_dir: Path,
        fake_transcription: FakeTranscription,
    ) -> None:
        content = write_file(media_dir / "voice.ogg", ogg_like())
        fake_transcription.register(content, WORDS)
        media = stored("voice.ogg", mime="audio/ogg; codecs=opus", filename="voice.ogg")
        message_id = await add_message(db, thread, text="about the flat", media=media)

        await transcribe_message(runtime, message_id, files=LocalFileStore(media_dir))

        message = await read(db, message_id)
        assert message.text == "about the flat"
        assert message.data["transcript"] == WORDS
        assert fake_transcription.requests[0].file is not None
        assert fake_transcription.requests[0].file.content_type == "audio/ogg"


class TestLeftAlone:
    async def test_without_a_transcriber_the_voice_note_stays_as_it_is(
        self, settings: Settings, db: Database, thread: Thread, media_dir: Path
    ) -> None:
        write_tone_wav(media_dir / "note.wav")
        message_id = await add_message(db, thread, media=stored("note.wav"))

        async with running_services(settings, run_worker_here=False) as runtime:
            result = await transcribe_message(runtime, message_id, files=LocalFileStore(media_dir))

        assert result == ""
        message = await read(db, message_id)
        assert (message.text, message.data) == ("", {"media": stored("note.wav")})

    @pytest.mark.parametrize(
        "media",
        [
            None,
            {"status": "pending"},
            {"status": "failed", "error": "download failed"},
            stored("missing.wav"),
            stored("../outside.wav"),
        ],
    )
    async def test_media_that_is_not_stored_here_is_never_sent(
        self,
        runtime: Runtime,
        db: Database,
        thread: Thread,
        media_dir: Path,
        fake_transcription: FakeTranscription,
        media: dict[str, Any] | None,
    ) -> None:
        write_tone_wav(media_dir.parent / "outside.wav")  # beside the folder, not in it
        message_id = await add_message(db, thread, media=media)
        before = (await read(db, message_id)).data

        result = await transcribe_message(runtime, message_id, files=LocalFileStore(media_dir))

        assert result == ""
        message = await read(db, message_id)
        assert (message.text, message.data) == ("", before)
        assert fake_transcription.requests == []

    async def test_a_picture_is_not_transcribed(
        self,
        runtime: Runtime,
        db: Database,
        thread: Thread,
        media_dir: Path,
        fake_transcription: FakeTranscription,
    ) -> None:
        write_file(media_dir / "flat.jpg", b"\xff\xd8\xff\xe0 jpeg \xff\xd9")
        media = stored("flat.jpg", mime="image/jpeg", filename="flat.jpg")
        message_id = await add_message(db, thread, kind="image", media=media)

        assert await transcribe_message(runtime, message_id, files=LocalFileStore(media_dir)) == ""

        assert "transcript" not in (await read(db, message_id)).data
        assert fake_transcription.requests == []

    async def test_an_unknown_message_is_nothing_to_do(
        self, runtime: Runtime, media_dir: Path
    ) -> None:
        assert (
            await transcribe_message(runtime, uuid.uuid4(), files=LocalFileStore(media_dir)) == ""
        )


class TestFailures:
    @pytest.mark.parametrize("status", [429, 500])
    async def test_a_failure_that_may_pass_is_raised_for_the_job_and_changes_nothing(
        self,
        runtime: Runtime,
        db: Database,
        thread: Thread,
        media_dir: Path,
        fake_transcription: FakeTranscription,
        status: int,
    ) -> None:
        audio = write_tone_wav(media_dir / "note.wav")
        fake_transcription.register(audio, WORDS)
        message_id = await add_message(db, thread, media=stored("note.wav"))
        fake_transcription.fail_next(status)

        with pytest.raises(TranscriptionError) as raised:
            await transcribe_message(runtime, message_id, files=LocalFileStore(media_dir))

        assert raised.value.retryable
        assert (await read(db, message_id)).data == {"media": stored("note.wav")}
        # The job's next try succeeds.
        assert (
            await transcribe_message(runtime, message_id, files=LocalFileStore(media_dir)) == WORDS
        )
        assert (await read(db, message_id)).text == WORDS

    async def test_audio_refused_for_good_leaves_a_voice_note(
        self,
        runtime: Runtime,
        db: Database,
        thread: Thread,
        media_dir: Path,
        fake_transcription: FakeTranscription,
    ) -> None:
        write_file(media_dir / "note.wav", b"RIFF....AVI not a voice note")
        message_id = await add_message(db, thread, media=stored("note.wav"))

        result = await transcribe_message(runtime, message_id, files=LocalFileStore(media_dir))

        assert result == ""
        message = await read(db, message_id)
        assert (message.text, message.data) == ("", {"media": stored("note.wav")})
        assert len(fake_transcription.requests) == 1

    async def test_a_transcriber_passed_in_is_used_and_left_open(
        self,
        runtime: Runtime,
        db: Database,
        thread: Thread,
        media_dir: Path,
        fake_transcription: FakeTranscription,
        settings: Settings,
    ) -> None:
        audio = write_tone_wav(media_dir / "note.wav")
        fake_transcription.register(audio, WORDS)
        first = await add_message(db, thread, media=stored("note.wav"))
        second = await add_message(db, thread, media=stored("note.wav"))
        transcriber = Transcriber.from_settings(
            configured(settings, fake_transcription, transcribe_model="whisper-large-v3")
        )
        assert transcriber is not None

        for message_id in (first, second):
            await transcribe_message(
                runtime, message_id, files=LocalFileStore(media_dir), transcriber=transcriber
            )
        await transcriber.aclose()

        assert [r.fields["model"] for r in fake_transcription.requests] == ["whisper-large-v3"] * 2
