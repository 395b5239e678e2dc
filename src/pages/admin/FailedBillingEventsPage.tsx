import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import { FailedEventsTable } from "./FailedEventsTable";

/**
 * Billing events that could not be applied (`billing.support.failedEvents`, newest first, live):
 * most concern a customer no account is linked to, or a price nobody configured. Support fixes
 * the cause, then re-applies the event with a reason; an applied event leaves this list.
 */
export function FailedBillingEventsPage() {
  return (
    <div className="page">
      <PageHeader
        title="Failed billing events"
        description="Stripe and Polar events that could not be applied, newest first. Fix the cause, then re-apply the event."
      />
      <Card>
        <FailedEventsTable
          loadingLabel="Loading failed events…"
          empty={{ title: "No failed billing events", body: "Every billing event received so far was applied or ignored by design." }}
          caption="Billing events that could not be applied, newest first"
          testId="failed-billing-events"
          rowTestId="failed-billing-event"
          count={{ noun: "failed event", testId: "failed-events-count" }}
        />
      </Card>
    </div>
  );
}
