"""gradelib.kernels: jupyter_client's manager and client without their fixed waits, same answers.

Real kernels (``python -m ipykernel_launcher``) and stand-ins that die or never answer.
"""
from __future__ import annotations

import asyncio
import sys
import time

import pytest
from jupyter_client.manager import AsyncKernelManager

from gradelib.kernels import PromptKernelClient, PromptShutdownMixin

pytestmark = pytest.mark.slow


class Manager(PromptShutdownMixin, AsyncKernelManager):
    pass


class StandIn(Manager):
    """Starts ``command`` as the "kernel"."""

    command: list[str] = []

    def format_kernel_cmd(self, extra_arguments=None):
        return list(self.command)


def manager(tmp_path, command=None) -> Manager:
    kind = Manager if command is None else type("Program", (StandIn,), {"command": command})
    return kind(transport="ipc", ip=str(tmp_path / "kernel"), connection_file=str(tmp_path / "kernel.json"))


async def first_output(kc, code: str) -> str:
    msg_id = kc.execute(code)
    while True:
        msg = await kc.get_iopub_msg(timeout=10)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            return msg["content"]["text"]


def test_a_ready_kernel_loses_no_output_of_its_first_cell(tmp_path):
    """After wait_for_ready the IOPub subscription is live: the first cell's output arrives, every time."""
    async def main():
        outputs = []
        for attempt in range(3):
            km = manager(tmp_path / str(attempt))
            (tmp_path / str(attempt)).mkdir()
            km.kernel_name = "python3"
            await km.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:"])
            kc = km.client()
            assert isinstance(kc, PromptKernelClient)
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=60)
                outputs.append(await first_output(kc, f"print('first output {attempt}')"))
            finally:
                kc.stop_channels()
                started = time.monotonic()
                await km.shutdown_kernel(now=True)
                outputs.append(("stopped", not await km.is_alive(), time.monotonic() - started < 5))
        return outputs

    outputs = asyncio.run(main())
    assert [o for o in outputs if isinstance(o, str)] == [f"first output {k}\n" for k in range(3)]
    assert all(o == ("stopped", True, True) for o in outputs if isinstance(o, tuple))


@pytest.mark.parametrize("program, words", [
    ("import sys; sys.exit(3)", "Kernel died before replying"),
    ("import time; time.sleep(60)", "Kernel didn't respond in 2 seconds"),
])
def test_a_kernel_that_dies_or_never_answers_is_an_error(tmp_path, program, words):
    async def main():
        km = manager(tmp_path, [sys.executable, "-c", program])
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            with pytest.raises(RuntimeError, match=words):
                await kc.wait_for_ready(timeout=2)
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    asyncio.run(main())
