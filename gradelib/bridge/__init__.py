"""The bridge between the trusted interpreter that runs test cells and the learner's kernel.

Test cells run in a trusted interpreter outside the sandbox; the learner's code runs in the
sandboxed learner kernel; only data crosses between them (see ``codec`` for the format,
``values`` for what is data, ``peer`` for the link, ``proxy`` for handles, ``agent`` for the
learner's side, ``trusted`` for the tests' interpreter and ``execute`` for the grader's
nbclient/nbgrader mixin).
"""
