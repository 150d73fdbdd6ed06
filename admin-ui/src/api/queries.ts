// TanStack Query hooks over the admin API: one query key per resource, so a mutation invalidates
// exactly what it changed.
import { useQuery } from '@tanstack/react-query';

import { ApiError, api, toQuery } from './client';
import type { Account, ApiKey, Page, Pool, QuotaWindow, SessionInfo, SessionUser, SignInFlow, StatsReport, UpstreamInvite } from './types';

export const keys = {
  session: ['session'] as const,
  pools: ['pools'] as const,
  upstreams: ['upstreams'] as const,
  upstreamInvites: ['upstream-invites'] as const,
  signInFlows: ['sign-in-flows'] as const,
  apiKeys: ['api-keys'] as const,
  requestLogs: ['request-logs'] as const,
  audit: ['audit-logs'] as const,
  jobs: ['jobs'] as const,
  operators: ['operators'] as const,
  invites: ['invites'] as const,
  settings: ['settings'] as const,
  usage: ['usage'] as const,
};

/// The signed-in operator, or null when there is no valid session.
export function useSession() {
  return useQuery({
    queryKey: keys.session,
    queryFn: async (): Promise<SessionUser | null> => {
      try {
        return (await api.get<SessionInfo>('/session')).user;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 30_000,
  });
}

export function usePools() {
  return useQuery({
    queryKey: keys.pools,
    queryFn: () => api.get<Page<Pool>>(`/admin/api/pools${toQuery({ limit: 200 })}`),
  });
}

/// Pool names by id, for tables that show a pool_id.
export function usePoolNames(): Map<string, string> {
  const pools = usePools();
  return new Map((pools.data?.items ?? []).map((pool) => [pool.id, pool.name]));
}

export function useUpstreams(filters: { pool_id?: string; status?: string; search?: string } = {}) {
  return useQuery({
    queryKey: [...keys.upstreams, filters],
    queryFn: () => api.get<Page<Account>>(`/admin/api/upstreams${toQuery({ ...filters, limit: 200 })}`),
  });
}

export function useApiKeys(filters: { pool_id?: string; status?: string } = {}) {
  return useQuery({
    queryKey: [...keys.apiKeys, filters],
    queryFn: () => api.get<Page<ApiKey>>(`/admin/api/api-keys${toQuery({ ...filters, limit: 200 })}`),
  });
}

export const isOwner = (user: SessionUser | null | undefined) => user?.role === 'instance_owner';

export function useQuotaWindows() {
  return useQuery({
    queryKey: ['quota-windows'],
    queryFn: () => api.get<{ items: QuotaWindow[] }>('/admin/api/quota-windows'),
    refetchInterval: 30_000,
  });
}

/// The last 24 hours from the request logs, one series per value of `groupBy`.
export function useStats(groupBy: StatsReport['group_by']) {
  return useQuery({
    queryKey: ['stats', groupBy],
    queryFn: () => api.get<StatsReport>(`/admin/api/stats${toQuery({ group_by: groupBy })}`),
    refetchInterval: 30_000,
  });
}

/// Hosted upstream invites of a pool, newest first (owner only).
export function useUpstreamInvites(poolId: string) {
  return useQuery({
    queryKey: [...keys.upstreamInvites, poolId],
    queryFn: () => api.get<Page<UpstreamInvite>>(`/admin/api/upstream-invites${toQuery({ pool_id: poolId })}`),
    enabled: poolId !== '',
  });
}

/// A sign-in flow, polled every `intervalMs(flow)` until `stop(flow)` says it is over.
export function useSignInFlow(initial: SignInFlow, intervalMs: (flow: SignInFlow) => number, stop: (flow: SignInFlow) => boolean) {
  return useQuery({
    queryKey: [...keys.signInFlows, initial.id],
    queryFn: async () => (await api.get<{ flow: SignInFlow }>(`/admin/api/upstreams/oauth/flows/${initial.id}`)).flow,
    initialData: initial,
    staleTime: 0,
    refetchInterval: (query) => {
      const flow = query.state.data ?? initial;
      return stop(flow) ? false : intervalMs(flow);
    },
    refetchIntervalInBackground: true,
  });
}
