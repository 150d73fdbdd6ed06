// The signed-in frame: navigation (links named exactly as operators know the pages), the
// operator's name, Account and Log out, and the page.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { NavLink, Outlet, useNavigate } from 'react-router';

import { api } from '../api/client';
import { isOwner, keys } from '../api/queries';
import { useUser } from '../lib/session';

export interface NavItem {
  to: string;
  label: string;
  ownerOnly: boolean;
}

export const NAV_ITEMS: NavItem[] = [
  { to: '/admin', label: 'Overview', ownerOnly: false },
  { to: '/admin/pools', label: 'Pools', ownerOnly: false },
  { to: '/admin/upstreams', label: 'Upstreams', ownerOnly: false },
  { to: '/admin/api-keys', label: 'API keys', ownerOnly: false },
  { to: '/admin/request-logs', label: 'Request logs', ownerOnly: false },
  { to: '/admin/audit-log', label: 'Audit log', ownerOnly: false },
  { to: '/admin/jobs', label: 'Jobs', ownerOnly: false },
  { to: '/admin/operators', label: 'Operators', ownerOnly: true },
  { to: '/admin/settings', label: 'Settings', ownerOnly: true },
  { to: '/admin/system', label: 'System', ownerOnly: false },
];

/// The navigation an operator of `role` sees: an instance admin has no Operators or Settings.
export function navItemsFor(owner: boolean): NavItem[] {
  return NAV_ITEMS.filter((item) => owner || !item.ownerOnly);
}

export function Layout() {
  const user = useUser();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const logout = useMutation({
    mutationFn: () => api.del('/admin/api/session'),
    onSettled: () => {
      queryClient.clear();
      queryClient.setQueryData(keys.session, null);
      navigate('/admin/login', { replace: true });
    },
  });
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Codex Pooler</span>
        <div className="whoami">
          <span>
            {user.display_name} · {user.role === 'instance_owner' ? 'Owner' : 'Admin'}
          </span>
          <NavLink to="/admin/account">Account</NavLink>
          <button type="button" onClick={() => logout.mutate()} disabled={logout.isPending}>
            Log out
          </button>
        </div>
      </header>
      <nav className="sidenav" aria-label="Main">
        <ul>
          {navItemsFor(isOwner(user)).map((item) => (
            <li key={item.to}>
              <NavLink to={item.to} end={item.to === '/admin'}>
                {item.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
