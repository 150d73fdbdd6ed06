import { useQuery } from '@tanstack/react-query';

import { ApiError, api } from '../api/client';
import { Badge, Facts, Loading, QueryError, Section } from '../components/ui';
import { formatDateTime, formatRelative } from '../lib/format';
import { useNow } from '../lib/useNow';

interface Readiness {
  status: string;
  account_custody?: { status: string; owner_nodes: number; owned_here: number; accounts: number; may_own: boolean };
}

interface ClusterNode {
  id: string;
  name: string;
  role: string;
  host: string;
  http_port: number;
  cluster_port: number;
  status: string;
  started_at: string;
  last_heartbeat_at: string;
}

interface SystemInfo {
  build: { version: string };
  database: string;
  nodes: ClusterNode[];
}

/// The gateway's own health: this node's readiness, the cluster's nodes and the build.
export function SystemPage() {
  const now = useNow(5000);
  const readiness = useQuery({
    queryKey: ['readyz'],
    queryFn: async (): Promise<Readiness> => {
      try {
        return await api.get<Readiness>('/readyz');
      } catch (error) {
        if (error instanceof ApiError && error.status === 503) return { status: 'unavailable' };
        throw error;
      }
    },
    refetchInterval: 5000,
  });
  const system = useQuery({ queryKey: ['system'], queryFn: () => api.get<SystemInfo>('/admin/api/system'), refetchInterval: 10_000 });
  const custody = readiness.data?.account_custody;
  return (
    <div className="page">
      <h1>System</h1>
      <Section title="This node">
        {readiness.isPending ? (
          <Loading />
        ) : (
          <Facts
            items={[
              ['Readiness', <Badge key="r" value={readiness.data?.status ?? 'unknown'} />],
              ['Account custody', custody ? <Badge key="c" value={custody.status} /> : '–'],
              ['Nodes that may own accounts', custody ? String(custody.owner_nodes) : '–'],
              ['Accounts owned here', custody ? `${custody.owned_here} of ${custody.accounts}` : '–'],
            ]}
          />
        )}
      </Section>
      <Section title="Cluster nodes">
        {system.isPending && <Loading />}
        {system.isError && <QueryError error={system.error} />}
        {system.data && (
          <>
            <Facts items={[['Version', system.data.build.version], ['Database', system.data.database], ['Nodes', String(system.data.nodes.length)]]} />
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">Role</th>
                  <th scope="col">Address</th>
                  <th scope="col">Status</th>
                  <th scope="col">Heartbeat</th>
                  <th scope="col">Started</th>
                </tr>
              </thead>
              <tbody>
                {system.data.nodes.map((node) => (
                  <tr key={node.id}>
                    <th scope="row">{node.name}</th>
                    <td>{node.role}</td>
                    <td><code>{node.host}:{node.http_port}</code></td>
                    <td><Badge value={node.status} /></td>
                    <td>{formatRelative(node.last_heartbeat_at, now)}</td>
                    <td>{formatDateTime(node.started_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Section>
    </div>
  );
}
