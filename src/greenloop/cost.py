"""Dollars for hosted models, from the price table of the `genai-prices` package (no network: its bundled
data). A model the table does not know (a local server's, `local`, `scripted`) has no price: None."""

from __future__ import annotations

PROVIDERS = {"openai": "openai", "anthropic": "anthropic"}


def call_cost(spec: str, input_tokens: int, output_tokens: int) -> float | None:
    """The dollars of one call of model `spec` (`openai:gpt-4o-mini`), or None when it has no known price."""
    from genai_prices import Usage, calc_price

    provider, _, model = spec.partition(":")
    if provider not in PROVIDERS or not model:
        return None
    try:
        price = calc_price(Usage(input_tokens=input_tokens, output_tokens=output_tokens), model_ref=model,
                           provider_id=PROVIDERS[provider])
    except LookupError:
        return None
    return float(price.total_price)


def priced(spec: str) -> bool:
    return call_cost(spec, 1, 1) is not None
