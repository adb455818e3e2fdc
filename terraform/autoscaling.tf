# The worker service follows the backlog per running task over both work queues: target tracking
# on the metric math (intake + completion ApproximateNumberOfMessagesVisible) / RunningTaskCount
# (SQS and Container Insights). In Textract mode the heavy work (reading the results, the NLP, the
# write) waits on the completion queue, served by the same tasks.
#
# No scale-in protection: a worker asked to stop (SIGTERM) stops receiving, finishes what it can
# within stop_timeout_secs - 15 s and releases the rest at once (visibility 0), so another task
# takes it; in Textract mode no task waits on a Textract job (the completion queue carries it on).
# A scale-in therefore costs at most a redone document, never a lost one — and the work is
# idempotent.

resource "aws_appautoscaling_target" "worker" {
  count              = var.create_services ? 1 : 0
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.fleet.name}/${aws_ecs_service.fleet["worker"].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.worker_min_count
  max_capacity       = var.worker_max_count
}

resource "aws_appautoscaling_policy" "backlog_per_task" {
  count              = var.create_services ? 1 : 0
  name               = "${var.name}-backlog-per-task"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.worker[0].service_namespace
  resource_id        = aws_appautoscaling_target.worker[0].resource_id
  scalable_dimension = aws_appautoscaling_target.worker[0].scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = var.backlog_per_task_target
    scale_in_cooldown  = var.scale_in_cooldown_secs
    scale_out_cooldown = var.scale_out_cooldown_secs
    customized_metric_specification {
      dynamic "metrics" {
        for_each = ["intake", "completion"]
        content {
          id          = metrics.value
          return_data = false
          metric_stat {
            metric {
              namespace   = "AWS/SQS"
              metric_name = "ApproximateNumberOfMessagesVisible"
              dimensions {
                name  = "QueueName"
                value = aws_sqs_queue.work[metrics.value].name
              }
            }
            stat = "Sum"
          }
        }
      }
      metrics {
        id          = "tasks"
        return_data = false
        metric_stat {
          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"
            dimensions {
              name  = "ClusterName"
              value = aws_ecs_cluster.fleet.name
            }
            dimensions {
              name  = "ServiceName"
              value = aws_ecs_service.fleet["worker"].name
            }
          }
          stat = "Average"
        }
      }
      metrics {
        id          = "backlog_per_task"
        label       = "Intake and completion messages visible per running worker task"
        expression  = "(intake + completion) / tasks"
        return_data = true
      }
    }
  }
}
