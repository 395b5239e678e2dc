import { Component, type ErrorInfo, type ReactNode } from "react";
import { ErrorNotice } from "./ErrorNotice";

interface Props {
  children: ReactNode;
  /** When this changes (e.g. the route), a caught error is cleared. */
  resetKey?: unknown;
  fallback?: (error: unknown, reset: () => void) => ReactNode;
}

interface State {
  error: unknown;
  hasError: boolean;
  resetKey: unknown;
}

/**
 * Catches errors thrown while rendering, including failed `useQuery` subscriptions,
 * so one failing panel shows its message instead of blanking the page.
 */
export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null, hasError: false, resetKey: this.props.resetKey };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error, hasError: true };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    if (props.resetKey !== state.resetKey) {
      return { resetKey: props.resetKey, error: null, hasError: false };
    }
    return null;
  }

  componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error("Render error", error, info.componentStack);
  }

  reset = () => this.setState({ error: null, hasError: false });

  render() {
    if (this.state.hasError) {
      return this.props.fallback
        ? this.props.fallback(this.state.error, this.reset)
        : <ErrorNotice error={this.state.error} onRetry={this.reset} />;
    }
    return this.props.children;
  }
}
