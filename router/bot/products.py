"""One product's stock, colours and sizes: a pluggable look-up, like orders.

"有黑色吗", "还有货吗", "M码还有吗" are questions about one product right now, not FAQ matters.
The bot asks a `ProductService` when the shop configured one (`bot.products`, a YAML file read by
`FileProductService`, or `bot.product_service: "pkg.module:Class"`), and hands the question to a
person otherwise, or when the service does not know the product.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import load_yaml_file
from router.bot.plugins import import_subclass


@dataclass(frozen=True, slots=True)
class ProductQuery:
    """What the customer asked, and what the router knows of them."""

    text: str
    attributes: tuple[str, ...] = ()  # colours and sizes named ("黑色", "m码"), lower case
    customer_id: str | None = None
    order_id: str | None = None  # the order talked about, if any: its items are candidates


@dataclass(frozen=True, slots=True)
class ProductAnswer:
    """What to tell the customer; None from the service means "ask a person"."""

    text: str
    product_id: str


class ProductService(ABC):
    """Contract: `answer` returns None when it cannot tell which product is meant or does not
    know it; transport failures may raise anything (the bot then hands off)."""

    @abstractmethod
    async def answer(self, query: ProductQuery) -> ProductAnswer | None: ...

    async def aclose(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class _Product:
    id: str
    title: str
    keywords: tuple[str, ...]
    stock: dict[str, int]  # "黑色/M" -> pieces


class FileProductService(ProductService):
    """Products read once from a YAML file (config/products-demo.yaml):

    ```yaml
    products:
      - id: down-jacket-01
        title: 轻薄白鸭绒羽绒服
        keywords: [羽绒服, 轻薄羽绒]
        stock: {黑色/M: 12, 黑色/L: 0, 米白/M: 3}
    ```
    """

    def __init__(self, path: str | Path) -> None:
        doc = load_yaml_file(path)
        raw = doc.data.get("products") if isinstance(doc.data, dict) else None
        if not isinstance(raw, list):
            raise doc.error((), "a products file is a mapping with a 'products' list")
        errors: list[ConfigError] = []
        products: list[_Product] = []
        for i, d in enumerate(raw):
            if not isinstance(d, dict):
                errors.append(doc.error(("products", i), "a product is a mapping with id, title, keywords, stock"))
                continue
            bad = [k for k in ("id", "title") if not isinstance(d.get(k), str) or not d[k].strip()]
            for k in bad:
                errors.append(doc.error(("products", i, k), f"{k} must be a non-empty string"))
            kws, stock = d.get("keywords") or [], d.get("stock") or {}
            if not isinstance(kws, list) or not all(isinstance(k, str) and k for k in kws):
                errors.append(doc.error(("products", i, "keywords"), "keywords must be a list of words"))
                continue
            if not isinstance(stock, dict) or not all(
                    isinstance(k, str) and "/" in k and isinstance(v, int) and v >= 0 for k, v in stock.items()):
                errors.append(doc.error(("products", i, "stock"), "stock maps 'colour/size' to a count >= 0"))
                continue
            if not bad:
                products.append(_Product(d["id"], d["title"], tuple(kws), dict(stock)))
        if errors:
            raise ConfigErrors(errors)
        self._products = tuple(products)

    async def answer(self, query: ProductQuery) -> ProductAnswer | None:
        text = query.text.lower()
        found = [p for p in self._products if any(k.lower() in text for k in (p.title, *p.keywords))]
        if len(found) != 1:
            return None  # none named, or several: a person asks which one
        p = found[0]
        wanted = [a.removesuffix("码").removesuffix("号").removesuffix("色") for a in query.attributes]
        rows = [(k, n) for k, n in p.stock.items()
                if all(w in k.lower() for w in wanted)]  # fmt: skip
        if wanted and not rows:
            return ProductAnswer(f"{p.title}没有{'、'.join(query.attributes)}这个规格。", p.id)
        have = [k for k, n in rows if n > 0]
        if not have:
            return ProductAnswer(f"{p.title}{'、'.join(query.attributes)}暂时缺货，可以在商品页点“到货提醒”。", p.id)
        return ProductAnswer(f"{p.title}现有：{'、'.join(have)}，以下单页显示为准。", p.id)


def load_product_service(spec: str, *args: Any, **kwargs: Any) -> ProductService:
    """Instantiate a ProductService subclass named "pkg.module:Class"."""
    service: ProductService = import_subclass(spec, ProductService, "product service")(*args, **kwargs)
    return service
