"""`python tests/generators/llama_server.py --model ... --port ...`: llama-cpp-python's own
OpenAI-compatible server, run with the same model parameters as generators/local.py (no
repacked weights: llama-cpp-python 0.3.36 built on an AMX CPU crashes in decode with them)."""

from __future__ import annotations

import runpy

from advisor_bot.generators.local import model_params

if __name__ == "__main__":
    with model_params(repacked_weights=False):
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
