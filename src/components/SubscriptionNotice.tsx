import type { ReactNode } from "react";
import type { SubscriptionView } from "../lib/billing";
import { formatDate } from "../lib/format";
import { planFor } from "../lib/plans";

/**
 * The subscription's banner from `billing.summary.mine`, live: a failed payment (service goes on
 * until the grace period ends) or a scheduled cancellation ("Cancels on <date>"). Nothing when
 * the subscription is in good standing. `action` is what to do about it on this page.
 */
export function SubscriptionNotice({
  subscription,
  action,
  testIdPrefix = "",
  staff = false,
}: {
  subscription: SubscriptionView | null | undefined;
  action?: ReactNode;
  testIdPrefix?: string;
  /** Support looking at someone else's account: the same facts, not addressed to the customer. */
  staff?: boolean;
}) {
  if (!subscription || subscription.banner === null) return null;
  const planName = planFor(subscription.plan)?.name ?? subscription.plan;
  if (staff) {
    const failed = subscription.banner === "payment_failed";
    return (
      <div className={`notice ${failed ? "notice-warning" : "notice-info"} notice-compact`} data-testid={`${testIdPrefix}billing-banner`}>
        {failed
          ? `Payment failed: the ${planName} plan keeps working until ${subscription.graceEndsAt !== null ? formatDate(subscription.graceEndsAt) : "the grace period ends"}, then the account is suspended unless the payment goes through.`
          : `Cancels on ${subscription.cancelsAt !== null ? formatDate(subscription.cancelsAt) : "the period's end"}: the ${planName} plan stays active until then, and the provider's cancellation event ends it.`}
      </div>
    );
  }
  if (subscription.banner === "payment_failed") {
    return (
      <div className="notice notice-warning notice-with-action" role="alert" data-testid={`${testIdPrefix}payment-failed-banner`}>
        <div>
          <p className="notice-title">Your last payment failed</p>
          <p>
            {subscription.graceEndsAt !== null ? (
              <>
                Your {planName} plan keeps working until <strong>{formatDate(subscription.graceEndsAt)}</strong>. Update
                your payment method before then to avoid a suspension.
              </>
            ) : (
              <>Your {planName} plan keeps working for now. Update your payment method to avoid a suspension.</>
            )}
          </p>
        </div>
        {action}
      </div>
    );
  }
  return (
    <div className="notice notice-info notice-with-action" role="status" data-testid={`${testIdPrefix}cancels-on-banner`}>
      <div>
        <p className="notice-title" data-testid={`${testIdPrefix}cancels-on`}>
          {subscription.cancelsAt !== null ? `Cancels on ${formatDate(subscription.cancelsAt)}` : "Cancels at the end of the period"}
        </p>
        <p>Your {planName} plan stays active until then, and nothing more is charged. Changed your mind? Renew it under Manage billing.</p>
      </div>
      {action}
    </div>
  );
}
