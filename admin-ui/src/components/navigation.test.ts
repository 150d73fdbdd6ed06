import { describe, expect, it } from 'vitest';

import { NAV_ITEMS, navItemsFor } from './Layout';

describe('navigation', () => {
  it('names the pages exactly as operators know them', () => {
    expect(NAV_ITEMS.map((item) => item.label)).toEqual([
      'Overview', 'Pools', 'Upstreams', 'API keys', 'Request logs', 'Audit log', 'Jobs', 'Operators', 'Settings', 'System',
    ]);
  });

  it('hides Operators and Settings from an instance admin', () => {
    const labels = navItemsFor(false).map((item) => item.label);
    expect(labels).not.toContain('Operators');
    expect(labels).not.toContain('Settings');
    expect(labels).toHaveLength(8);
    expect(navItemsFor(true)).toHaveLength(10);
  });
});
