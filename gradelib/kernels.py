"""jupyter_client's kernel manager and client without their fixed waits, for kernels gradelib forks.

A grading worker starts a learner kernel for every notebook, and two fixed waits in
jupyter_client 8 cost it more wall time than the kernel's own start:

* ``wait_for_ready`` ends by reading IOPub until it has been silent for 0.2 s (to drop the
  start-up chatter). :class:`PromptKernelClient` stops instead at the IOPub ``idle`` status
  of its own ``kernel_info`` request: IOPub is ordered, so everything before it has been read
  and nothing after it belongs to the start. That message also proves the IOPub subscription
  is live, which is what the original's extra read checks; when it does not come within
  50 ms (published before the subscription took), the request is sent again.
* killing a kernel polls for its end every 0.1 s. :class:`PromptShutdownMixin` polls every
  10 ms: a kernel killed with SIGKILL is gone in a few.

Both keep jupyter_client's behaviour otherwise: a kernel that dies before it answers, or that
does not answer within the timeout, raises ``RuntimeError`` as before.
"""
from __future__ import annotations

import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from traitlets import DottedObjectName, HasTraits, Type

__all__ = ["PromptKernelClient", "PromptShutdownMixin", "IOPUB_RETRY_SECONDS"]

IOPUB_RETRY_SECONDS = 0.05  # no IOPub idle this long after a reply: ask again (the subscription was not live yet)


class PromptKernelClient(AsyncKernelClient):
    """An AsyncKernelClient whose ``wait_for_ready`` returns as soon as the kernel has answered on both channels."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        asked: set[str] = set()
        while True:
            asked.add(self.kernel_info())
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if (reply is not None and reply["msg_type"] == "kernel_info_reply"
                    and reply["parent_header"].get("msg_id") in asked
                    and await self._idle_after(reply["parent_header"]["msg_id"])):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    async def _idle_after(self, msg_id: str) -> bool:
        """Read IOPub up to the idle status of request ``msg_id``; False if IOPub falls silent first (then a new
        request is sent: the idle of this one may have been published before the subscription took)."""
        while True:
            try:
                msg = await self.iopub_channel.get_msg(timeout=IOPUB_RETRY_SECONDS)
            except Empty:
                return False
            if (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                    and msg["parent_header"].get("msg_id") == msg_id):
                return True


class PromptShutdownMixin(HasTraits):
    """For an AsyncKernelManager: poll a killed kernel's end every 10 ms, not every 100 ms; clients are prompt."""

    client_class = DottedObjectName("gradelib.kernels.PromptKernelClient")
    client_factory = Type("gradelib.kernels.PromptKernelClient", klass="jupyter_client.asynchronous.AsyncKernelClient")

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        await super()._async_wait(pollinterval=min(pollinterval, 0.01))
