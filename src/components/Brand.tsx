/** The product's mark and name: in the sidebar, and larger on the sign-in and onboarding screens. */
export function Brand({ large = false }: { large?: boolean }) {
  return (
    <div className={large ? "brand brand-large" : "brand"}>
      <span className="brand-mark" aria-hidden="true">P</span>
      <span>Poindexter Cloud</span>
    </div>
  );
}
