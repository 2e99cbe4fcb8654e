/**
 * Where a query goes once its intent is known. Every intent still gets an answer from
 * the search API; `route` tells the app which screen or flow should take over, and
 * `searches` whether running a product search is useful at all.
 */
import { DEFAULT_INTENT_LABELS, type DefaultIntent } from '../models/intent-labels.ts';

export type Route = 'search' | 'brand_page' | 'deals' | 'product_qa' | 'order_status' | 'returns' | 'chat';

export interface Routing {
  route: Route;
  searches: boolean;
  message: string;
}

/** The default intent labels of the bundled classifier (one list, in models/intent-labels.ts). */
export { DEFAULT_INTENT_LABELS as DEFAULT_INTENTS };

const ROUTES: Record<DefaultIntent, Routing> = {
  product_search: { route: 'search', searches: true, message: 'Searching the catalog.' },
  brand_navigation: { route: 'brand_page', searches: true, message: "Showing the brand's products; the app may open its brand page." },
  price_deal: { route: 'deals', searches: true, message: 'Showing matching products; the app may open current deals.' },
  product_question: { route: 'product_qa', searches: true, message: 'This reads as a question about a product; showing the products it may be about.' },
  order_delivery: { route: 'order_status', searches: false, message: 'This looks like a question about an order or its delivery; route it to order status.' },
  returns_complaints: { route: 'returns', searches: false, message: 'This looks like a return or a complaint; route it to customer service.' },
  other: { route: 'chat', searches: false, message: 'This does not look like a product search; route it to the assistant.' },
};

/** Unknown labels (a shop's own fine-tuned classes) fall back to an ordinary search. */
export function routeForIntent(label: string): Routing {
  const known = (ROUTES as Record<string, Routing>)[label.trim().toLowerCase()];
  return known ? { ...known } : { route: 'search', searches: true, message: `Unknown intent "${label}"; searching the catalog.` };
}
