"""The Admin GraphQL documents the connector sends (field names as in the 2026-04 schema).

Money is read as ``shopMoney`` (the shop's currency) with ``presentmentMoney`` where a refund
must be expressed in the customer's currency. ``Order.refunds`` is a plain list, not a connection:
its only argument ``first`` truncates it, so it is read without one to see every refund of the
order (what makes ``get_platform_refund``'s search for the hub marker complete).
"""

from __future__ import annotations

import json
import re

_MONEY = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"

TRANSACTION_FIELDS = f"""
  id kind status gateway formattedGateway manualPaymentGateway test
  authorizationCode paymentId receiptJson processedAt createdAt
  amountSet {{ {_MONEY} }}
  parentTransaction {{ id kind gateway authorizationCode paymentId receiptJson }}
"""

ORDER_FIELDS = f"""
  id name createdAt processedAt updatedAt cancelledAt email taxesIncluded
  currencyCode presentmentCurrencyCode
  customer {{ id }}
  totalPriceSet {{ {_MONEY} }}
  totalRefundedSet {{ {_MONEY} }}
  lineItems(first: 250) {{ nodes {{
    id sku name title quantity requiresShipping isGiftCard
    product {{ id }} variant {{ id }} sellingPlan {{ sellingPlanId name }}
    originalUnitPriceSet {{ {_MONEY} }}
    discountedUnitPriceAfterAllDiscountsSet {{ {_MONEY} }}
    taxLines {{ priceSet {{ {_MONEY} }} }}
  }} }}
  fulfillments(first: 50) {{ createdAt deliveredAt status }}
  transactions(first: 100) {{ {TRANSACTION_FIELDS} }}
  refunds {{ id note createdAt totalRefundedSet {{ {_MONEY} }} }}
"""

REFUND_FIELDS = f"""
  id note createdAt
  totalRefundedSet {{ {_MONEY} }}
  return {{ id }}
  refundLineItems(first: 250) {{ nodes {{
    quantity lineItem {{ id }} subtotalSet {{ {_MONEY} }} totalTaxSet {{ {_MONEY} }}
  }} }}
  transactions(first: 50) {{ nodes {{ {TRANSACTION_FIELDS} }} }}
"""

RETURN_QUERY = f"""
query HubReturn($id: ID!) {{
  return(id: $id) {{
    id name status createdAt closedAt
    decline {{ reason note }}
    returnLineItems(first: 250) {{ nodes {{
      id quantity returnReason returnReasonNote customerNote
      ... on ReturnLineItem {{ fulfillmentLineItem {{ lineItem {{ id }} }} }}
    }} }}
    refunds(first: 50) {{ nodes {{ id note }} }}
    order {{ {ORDER_FIELDS} }}
  }}
}}
"""

REFUND_QUERY = f"""
query HubRefund($id: ID!) {{
  refund(id: $id) {{
    {REFUND_FIELDS}
    order {{ {ORDER_FIELDS} }}
  }}
}}
"""

ORDER_QUERY = f"""
query HubOrder($id: ID!) {{
  order(id: $id) {{ {ORDER_FIELDS} }}
}}
"""

# How Shopify itself would split a refund of these lines across the order's payments (each
# suggested transaction names its parent and that parent's maximum refundable).
SUGGESTED_REFUND_QUERY = f"""
query HubSuggestedRefund($id: ID!, $lines: [RefundLineItemInput!]) {{
  order(id: $id) {{
    id
    suggestedRefund(refundLineItems: $lines) {{
      amountSet {{ {_MONEY} }}
      maximumRefundableSet {{ {_MONEY} }}
      suggestedTransactions {{
        gateway kind
        amountSet {{ {_MONEY} }}
        maximumRefundableSet {{ {_MONEY} }}
        parentTransaction {{ id }}
      }}
    }}
  }}
}}
"""

# Whether the app is still installed: an uninstall revokes every token at once, so this answers
# 401 (and the refresh token is refused) on a shop that removed the app.
SHOP_QUERY = """
query HubShop {
  shop { id }
}
"""

RETURN_DECLINE = """
mutation HubReturnDecline($input: ReturnDeclineRequestInput!) {
  returnDeclineRequest(input: $input) {
    return { id status decline { reason note } }
    userErrors { field message code }
  }
}
"""

METAFIELDS_SET = """
mutation HubMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key }
    userErrors { field message code }
  }
}
"""

WEBHOOK_SUBSCRIBE = """
mutation HubWebhookSubscribe($topic: WebhookSubscriptionTopic!, $subscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $subscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,255}$")


def refund_create(idempotency_key: str) -> str:
    """``refundCreate`` with the mandatory ``@idempotent`` directive (a literal, as Shopify's examples write it)."""
    if not _KEY.fullmatch(idempotency_key):
        raise ValueError(f"idempotency key {idempotency_key!r} has characters Shopify keys should not carry")
    return f"""
mutation HubRefundCreate($input: RefundInput!) {{
  refundCreate(input: $input) @idempotent(key: {json.dumps(idempotency_key)}) {{
    refund {{ {REFUND_FIELDS} }}
    userErrors {{ field message }}
  }}
}}
"""


# namespace.key of a product metafield (Shopify's simplified form since 2023-01)
METAFIELD_KEY = re.compile(r"^[A-Za-z0-9_-]{2,255}\.[A-Za-z0-9_-]{1,64}$")


def order_facts_query(final_sale_key: str | None) -> str:
    """The customer's lifetime figures and each line's product tags (plus the metafield the merchant
    names for final sale), asked apart from the order so a shop that never granted
    ``read_customers``/``read_products`` still has its refunds read: these facts are then unknown.
    ``numberOfOrders`` is an ``UnsignedInt64`` (a string on the wire)."""
    metafield = ""
    if final_sale_key is not None:
        if not METAFIELD_KEY.fullmatch(final_sale_key):
            raise ValueError(f"metafield key {final_sale_key!r} is not namespace.key")
        metafield = f"metafield(key: {json.dumps(final_sale_key)}) {{ value type }}"
    return f"""
query HubOrderFacts($id: ID!) {{
  order(id: $id) {{
    id
    customer {{ id numberOfOrders amountSpent {{ amount currencyCode }} }}
    lineItems(first: 250) {{ nodes {{ id product {{ id tags {metafield} }} }} }}
  }}
}}
"""


# How many orders the shop took in a time range: ``limit: null`` asks for the uncapped count
# (every count field defaults to a limit of 10 000 since 2025-07); ``precision`` says EXACT or AT_LEAST.
ORDERS_COUNT_QUERY = """
query HubOrdersCount($query: String!) {
  ordersCount(query: $query, limit: null) { count precision }
}
"""
