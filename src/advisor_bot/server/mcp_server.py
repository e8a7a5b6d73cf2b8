"""MCP: the advisor as tools and resources for any MCP client (Claude Desktop, IDEs, agents).

Tools:
- `ask_advisor(question)`: a cited answer (text with [n] markers, the citations, the outcome);
- `search_advice(query, k)`: the best passages for a query, with title, section, link and text.
Resources: every essay of the corpus as `essay://<doc_id>` (markdown with its title and link).

`advisor-bot mcp` speaks MCP over stdio; `advisor-bot serve` also serves it as streamable
HTTP under /mcp (the same API key as /v1 beyond this machine).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import AdvisorError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from ..advisor import Advisor

INSTRUCTIONS = (
    "advisor-bot answers questions about getting into AI research and careers (PhDs, interviews, "
    "research skills, learning resources) from a corpus of essays, and cites the passages it used. "
    "Use ask_advisor for an answer, search_advice for raw passages; essays are resources."
)


def build_mcp(advisor: Advisor) -> MCPServer:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    from .. import __version__

    server = MCPServer(name="advisor-bot", version=__version__, instructions=INSTRUCTIONS)

    @server.tool(description="Answer a question about AI careers and research from the essays, with citations.")
    def ask_advisor(question: str) -> dict[str, Any]:
        try:
            answer = advisor.ask(question)
        except AdvisorError as exc:  # a tool error (isError) with our message, not a result
            raise ToolError(str(exc)) from None
        data = answer.to_dict()
        return {
            "text": data["text"],
            "outcome": data["outcome"],
            "notice": data["notice"],
            "corrected": data["corrected"],
            "citations": [
                {k: c[k] for k in ("n", "title", "section", "url", "quote", "text")} for c in data["citations"]
            ],
        }

    @server.tool(description="Search the essays: the k passages that best match a query, best first.")
    def search_advice(query: str, k: int = 5) -> dict[str, Any]:
        try:
            passages = advisor.retrieve(query, k)
        except AdvisorError as exc:  # a tool error (isError) with our message, not a result
            raise ToolError(str(exc)) from None
        return {
            "query": query,
            "passages": [
                {k_: p[k_] for k_ in ("rank", "title", "section", "url", "text", "doc_id")}
                for p in (x.to_dict() for x in passages)
            ],
        }

    for doc in sorted(advisor.index.documents.values(), key=lambda d: d.doc_id):
        if doc.kind == "resource":
            continue
        _add_essay(server, advisor, doc.doc_id, doc.title)
    return server


def _add_essay(server: Any, advisor: Advisor, doc_id: str, title: str) -> None:
    @server.resource(
        f"essay://{doc_id}", name=doc_id, title=title, mime_type="text/markdown", description=f"The essay “{title}”"
    )
    def read() -> str:
        doc = advisor.index.documents.get(doc_id)
        if doc is None:
            return f"The essay {doc_id} is no longer in the index."
        link = f"\n\nSource: {doc.source_url}" if doc.source_url else ""
        heading = "" if doc.text.lstrip().startswith("# ") else f"# {doc.title}\n\n"  # most essays have their own
        return f"{heading}{doc.text}{link}"


def run_stdio(advisor: Advisor) -> None:
    build_mcp(advisor).run(transport="stdio")
