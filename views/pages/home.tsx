import type { User } from "../../src/store/users";

/** Render the home page: what the instance needs next, or a welcome for the signed-in user. */
export function HomePage(props: { hasAdmin: boolean; user: User | undefined }) {
  if (!props.hasAdmin) {
    return (
      <section class="card narrow" aria-labelledby="setup-title">
        <h1 id="setup-title">Welcome to MediaNest</h1>
        <p>This server has no administrator yet. Finish setup to start using it:</p>
        <ol class="steps">
          <li>Create the owner account: sign in with Plex, or make a local administrator.</li>
          <li>Choose the Plex server your household uses.</li>
          <li>Invite your household: they sign in with their Plex accounts.</li>
        </ol>
        <a class="btn btn-primary" href="/setup">
          Start setup
        </a>
      </section>
    );
  }
  if (!props.user) {
    return (
      <section class="card narrow" aria-labelledby="welcome-title">
        <h1 id="welcome-title">MediaNest</h1>
        <p>Sign in to see what is playing, request movies and shows, and follow your downloads.</p>
        <a class="btn btn-primary" href="/login">
          Sign in
        </a>
      </section>
    );
  }
  return (
    <section aria-labelledby="home-title">
      <h1 id="home-title">Hello, {props.user.displayName}</h1>

    </section>
  );
}
