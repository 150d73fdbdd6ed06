import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <main className="centered">
      <div className="card">
        <h1>Page not found</h1>
        <p>
          There is nothing at this address. <Link to="/admin">Go to the Overview</Link>.
        </p>
      </div>
    </main>
  );
}

/// The same inside the signed-in frame (which already has the page's <main>).
export function NotFoundPanel() {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <Link to="/admin">Go to the Overview</Link>.
      </p>
    </div>
  );
}
