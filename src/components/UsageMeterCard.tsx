import { useQuery } from "convex/react";
import { Link } from "react-router";
import { api } from "../../convex/_generated/api";
import { Card } from "./Card";
import { Loading } from "./Loading";
import { UsageFigures } from "./UsageFigures";

/**
 * This month's included tokens used vs remaining and the bill so far, live. The bill is the
 * provider's figure (`billing.overageBill.mine`: plan + overage lines rounded as invoiced).
 */
export function UsageMeterCard({ month }: { month: string }) {
  const summary = useQuery(api.usage.meters.summary, { month });
  const bill = useQuery(api.billing.overageBill.mine, { month });
  return (
    <Card
      title="This month"
      testId="usage-meter"
      actions={
        <Link to="/usage" className="link-quiet">
          Details
        </Link>
      }
    >
      {summary === undefined || bill === undefined ? (
        <Loading label="Loading usage…" />
      ) : (
        <UsageFigures
          summary={summary}
          bill={bill}
          figures={["remaining", "bill", "modelCost", "requests"]}
          testIdPrefix="meter"
          detail="card"
        />
      )}
    </Card>
  );
}
