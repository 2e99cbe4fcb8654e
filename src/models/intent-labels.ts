/**
 * The default e-commerce intent label set, in id order: what the built intent model's config.json
 * declares, what the shipped query set is labelled with, and what understanding routes on.
 *   product_search      looking for products ("red running shoes")
 *   brand_navigation    a brand or store ("nike store", "耐克官方旗舰店")
 *   price_deal          price or deal seeking ("sneakers on sale", "cheapest mug")
 *   product_question    a question about a product ("is this jacket waterproof")
 *   order_delivery      an order or its delivery ("where is my parcel")
 *   returns_complaints  returns, refunds, complaints ("I want to return these")
 *   other               chit-chat, greetings, off-topic
 */
export const DEFAULT_INTENT_LABELS = [
  'product_search',
  'brand_navigation',
  'price_deal',
  'product_question',
  'order_delivery',
  'returns_complaints',
  'other',
] as const;

export type DefaultIntent = (typeof DEFAULT_INTENT_LABELS)[number];
