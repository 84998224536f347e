/** The two answers GET /status can give, in the order that wins a tie. */
const OFFERS = [
  { type: 'application', subtype: 'json' },
  { type: 'text', subtype: 'event-stream' },
] as const;

interface Range {
  type: string;
  subtype: string;
  q: number;
  /** Anything but q: a range with parameters matches no offer here, as in `negotiator`. */
  params: boolean;
  order: number;
}

/**
 * Whether `Accept` prefers the event stream to JSON: what Express's `req.accepts(['application/json',
 * 'text/event-stream'])` answers, without Express. The rules are `negotiator`'s (jshttp): for each
 * offer the most specific matching range counts, then the higher q; offers rank by q, then by that
 * specificity, then by the range's place in the header, then by our order. No header: JSON.
 */
export function prefersEventStream(accept: string | string[] | undefined): boolean {
  if (typeof accept !== 'string' || accept === '') return false;
  const ranges = parseAccept(accept);
  const ranked = OFFERS.map((offer, index) => ({ index, ...priority(offer, ranges) }))
    .filter((offer) => offer.q > 0)
    .sort((a, b) => b.q - a.q || b.s - a.s || a.o - b.o || a.index - b.index);
  return ranked[0]?.index === 1;
}

function parseAccept(accept: string): Range[] {
  const ranges: Range[] = [];
  for (const [order, part] of accept.split(',').entries()) {
    const [mediaType = '', ...params] = part.split(';').map((item) => item.trim());
    const match = /^([^\s/]+)\/([^\s/]+)$/.exec(mediaType);
    if (!match) continue;
    let q = 1;
    let other = false;
    for (const param of params) {
      const [name = '', value = ''] = param.split('=').map((item) => item.trim());
      if (name.toLowerCase() === 'q') q = Number.parseFloat(value);
      else if (name !== '') other = true;
    }
    ranges.push({
      type: match[1]!.toLowerCase(),
      subtype: match[2]!.toLowerCase(),
      q: Number.isNaN(q) ? 1 : q,
      params: other,
      order,
    });
  }
  return ranges;
}

function priority(
  offer: (typeof OFFERS)[number],
  ranges: Range[],
): { q: number; s: number; o: number } {
  let best = { q: 0, s: 0, o: -1 };
  for (const range of ranges) {
    if (range.params) continue;
    let s = 0;
    if (range.type === offer.type) s |= 4;
    else if (range.type !== '*') continue;
    if (range.subtype === offer.subtype) s |= 2;
    else if (range.subtype !== '*') continue;
    if ((best.s - s || best.q - range.q || best.o - range.order) < 0) {
      best = { q: range.q, s, o: range.order };
    }
  }
  return best;
}
