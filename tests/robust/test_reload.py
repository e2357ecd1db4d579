"""Live reload by SIGHUP: a broken knowledge file keeps the last good Bot serving."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from faqbot.api_state import ApiState
from faqbot.config import Settings
from tests.conftest import KNOWLEDGE, fresh_data_dir

pytestmark = pytest.mark.slow


def test_reload_keeps_last_good_bot_on_broken_knowledge(bot, built_data_dir, tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    settings = Settings(
        data_dir=fresh_data_dir(built_data_dir, tmp_path / "data"), knowledge_dir=knowledge
    )
    state = ApiState(settings=settings, bot=bot)
    entry = knowledge / "faq" / "risks" / "is-kratom-addictive.yaml"
    entry.write_text(entry.read_text().replace("topic: risks", "topic: [risks"))
    asyncio.run(state.reload())
    assert state.bot is bot
    assert state.bot.reply("is kratom addictive").reply.entry_id == "is-kratom-addictive"
