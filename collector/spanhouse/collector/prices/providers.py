"""Provider names from every convention's vocabulary, mapped onto OTel `gen_ai.provider.name` values."""

from __future__ import annotations

_CANONICAL = {
    "az.ai.openai": "azure.ai.openai",
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "azure-openai": "azure.ai.openai",
    "az.ai.inference": "azure.ai.inference",
    "vertex_ai": "gcp.vertex_ai",
    "vertexai": "gcp.vertex_ai",
    "vertex": "gcp.vertex_ai",
    "google.vertex": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "google": "gcp.gemini",
    "google.generative-ai": "gcp.gemini",
    "google_genai": "gcp.gemini",
    "aws": "aws.bedrock",
    "bedrock": "aws.bedrock",
    "aws_bedrock": "aws.bedrock",
    "amazon-bedrock": "aws.bedrock",
    "mistralai": "mistral_ai",
    "mistral": "mistral_ai",
    "xai": "x_ai",
    "x-ai": "x_ai",
}


def canonical_provider(name: str | None) -> str | None:
    """`az.ai.openai`, `vertexai`, `mistralai`, `openai.chat` (AI SDK) ... -> OTel provider names.

    Dotted names are tried whole, then with their last part dropped, so AI SDK provider ids
    such as `openai.chat` or `google.vertex.chat` land on `openai` and `gcp.vertex_ai`.
    """
    if not name:
        return None
    lowered = name.strip().lower()
    found = _CANONICAL.get(lowered)
    if found:
        return found
    probe = lowered
    while "." in probe:
        if probe.startswith(("azure.ai.", "gcp.", "aws.", "ibm.")):
            return probe
        probe = probe.rsplit(".", 1)[0]
        found = _CANONICAL.get(probe)
        if found:
            return found
    return _CANONICAL.get(probe, probe) or None
